import { describe, expect, it } from "vitest";
import { agePayloadBytes, ageStanzaTypeFor, inspectAgeEnvelope, WRAPPED_DATA_KEY_PAYLOAD_BYTES } from "./age-header.js";
import { generateIdentity, wrapDataKey } from "./age.js";

// Made by the real age CLI (age 1.1.1): `age -a -r A -r B` and `age -a -r A` over 32 random
// bytes, and `age -a -R key.pub` for an ssh-ed25519 key (public ciphertext only, no key here).
const TWO_RECIPIENTS = `-----BEGIN AGE ENCRYPTED FILE-----
YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBIWk8wTUlZRkNsYkZRVy9Z
K2JPV2piWmJmWWRZeUtyUkk3ZXZMN3F2bmo4CjhvTFYzT1Q3YnNTeGdYNDg1WDhj
ZVdxaWw0MGx1S1pKU2VqMllMcklVVG8KLT4gWDI1NTE5IDZnV1Ztanl4bWo4Tjhk
SDlVYWpwOVM0cmE5VG1RZVd5SFJXSElPUkpUbEkKT2JaRnlIcGQ5anpZTERFZ1l4
a1hwREZJV3A3MDJDSXl0NGFwQlUycm1DRQotLS0gVjVZM3gzcVJVVnZIZDB6SzBB
SDYwcUkwanZzSUxQcTcxSnhEN1gyL08zUQo2+OkcdVXhfjgBGp7ah37wLaDUJRgU
yL5t0a3605BhjoJo6ogyIrqAt+Ukz/zY7bnMTKf2gxMzpte11Neg+SkY
-----END AGE ENCRYPTED FILE-----
`;
const ONE_RECIPIENT = `-----BEGIN AGE ENCRYPTED FILE-----
YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSB2TUVzMHJRWURJY2t1UFo0
MDJqRXlFQlBNRkFkekYrUjFaVHluMUc3VTA4ClBBUEc4ZkI2YUhmN1dCRFM5WDBU
amxPQkFxUG1mU0NkZG82QzJIZlJ6WXMKLS0tIDhaMDQ3SnZmbHZQQ1Nzd1M2TkQ5
T3Q4UHl5cU1MRmMrMmJGeGJSb3EvVmMKbrX0oC3ne3doBpMQwiQ9t0bQz2BXc39o
RQWjEZWIb8XFiHfhCKBZy+mqSvtG3jbEeEQ0jt5DfFG148IM7WZRnw==
-----END AGE ENCRYPTED FILE-----
`;

const armored = (header: string): string =>
  `-----BEGIN AGE ENCRYPTED FILE-----\n${(Buffer.from(header, "latin1").toString("base64").match(/.{1,64}/g) ?? []).join("\n")}\n-----END AGE ENCRYPTED FILE-----\n`;
const MAC = "--- V5Y3x3qRUVvHd0zK0AH60qI0jvsILPq71JxD7X2/O3Q\n";
const BODY = "8oLV3OT7bsSxgX485X8ceWqil40luKZJSej2YLrIUTo\n";

describe("inspectAgeEnvelope", () => {
  it("counts the two recipient stanzas of an envelope made by `age -r A -r B`", () => {
    const info = inspectAgeEnvelope(TWO_RECIPIENTS);
    expect(info.ok).toBe(true);
    if (info.ok) expect(info.stanzas.map((s) => s.type)).toEqual(["X25519", "X25519"]);
  });

  it("finds one X25519 stanza in an envelope made by `age -r A`, and in one made by this package's writer", async () => {
    const one = inspectAgeEnvelope(ONE_RECIPIENT);
    expect(one).toMatchObject({ ok: true, stanzas: [{ type: "X25519" }] });
    const { recipient } = await generateIdentity();
    const ours = inspectAgeEnvelope(await wrapDataKey(new Uint8Array(32), recipient));
    expect(ours.ok && ours.stanzas.map((s) => s.type)).toEqual(["X25519"]);
  });

  it("reads CRLF line ends and surrounding blank space", () => {
    expect(inspectAgeEnvelope(`\n  ${ONE_RECIPIENT.replace(/\n/g, "\r\n")}  `)).toMatchObject({ ok: true, stanzas: [{ type: "X25519" }] });
  });

  it("reports the types of other stanzas (ssh-ed25519, plugins) with their public arguments", () => {
    const info = inspectAgeEnvelope(armored(`age-encryption.org/v1\n-> ssh-ed25519 8j82Sw mAwtibtNtEULYSiumlxzjFNhyWknf9/3rmR/zLIEGCE\n${BODY}-> piv-p256 abc def\n\n${MAC}payload`));
    expect(info).toEqual({
      ok: true,
      stanzas: [
        { type: "ssh-ed25519", args: ["8j82Sw", "mAwtibtNtEULYSiumlxzjFNhyWknf9/3rmR/zLIEGCE"] },
        { type: "piv-p256", args: ["abc", "def"] },
      ],
    });
  });

  it("reads a stanza whose body spans several 64-column lines", () => {
    const full = "A".repeat(64);
    // (an X25519 body is one 43-column line; post-quantum and plugin stanzas have longer ones)
    expect(inspectAgeEnvelope(armored(`age-encryption.org/v1\n-> mlkem768x25519 x\n${full}\n${full}\nAB\n${MAC}`))).toMatchObject({ ok: true, stanzas: [{ type: "mlkem768x25519" }] });
  });

  it.each([
    ["not a string", 42 as unknown as string],
    ["empty", ""],
    ["plain text", "hello"],
    ["no END line", ONE_RECIPIENT.replace("-----END AGE ENCRYPTED FILE-----", "")],
    ["bad base64", "-----BEGIN AGE ENCRYPTED FILE-----\n!!!!\n-----END AGE ENCRYPTED FILE-----"],
    ["empty armor", "-----BEGIN AGE ENCRYPTED FILE-----\n-----END AGE ENCRYPTED FILE-----"],
    ["wrong version line", armored(`age-encryption.org/v2\n-> X25519 x\n${BODY}${MAC}`)],
    ["no stanza", armored(`age-encryption.org/v1\n${MAC}`)],
    ["no MAC line", armored(`age-encryption.org/v1\n-> X25519 x\n${BODY}`)],
    ["a short MAC", armored(`age-encryption.org/v1\n-> X25519 x\n${BODY}--- abc\n`)],
    ["a stanza without body end", armored(`age-encryption.org/v1\n-> X25519 x\n${"A".repeat(64)}\n`)],
    ["an empty stanza type", armored(`age-encryption.org/v1\n->  x\n${BODY}${MAC}`)],
    ["a double space in the arguments", armored(`age-encryption.org/v1\n-> X25519 a  b\n${BODY}${MAC}`)],
    ["a body line over 64 columns", armored(`age-encryption.org/v1\n-> X25519 x\n${"A".repeat(65)}\n${MAC}`)],
    ["a body line that is not base64", armored(`age-encryption.org/v1\n-> X25519 x\n***\n${MAC}`)],
  ])("reports a malformed envelope (%s) instead of throwing", (_, enc) => {
    const info = inspectAgeEnvelope(enc);
    expect(info.ok).toBe(false);
    if (!info.ok) expect(info.problem).toMatch(/age|enc/);
  });

  // found by the keyless fuzz (pnpm fuzz): the envelope's strict armor reader (as age's) refuses these, so no key opens the stanza
  it.each([
    ["a space inside a line", ONE_RECIPIENT.replace("MDJqRXlFQlBN", "MDJqRXlF QlBN")],
    ["a line shorter than 64 columns before the last", ONE_RECIPIENT.replace("MDJqRXlFQlBN", "MDJqRXlFQlB")],
    ["a line longer than 64 columns", ONE_RECIPIENT.replace("MDJqRXlFQlBN", "MDJqRXlFQlBNx")],
    ["padding before the last line", ONE_RECIPIENT.replace("MDJqRXlFQlBN", "MDJqRXlFQlB=")],
    ["non-zero spare bits before the padding", ONE_RECIPIENT.replace("Rnw==", "Rnx==")],
  ])("reports armor the strict age reader refuses (%s)", (_, enc) => {
    expect(inspectAgeEnvelope(enc)).toMatchObject({ ok: false, problem: expect.stringContaining("armor") });
  });

  it("stops at an absurd number of stanzas", () => {
    const many = `age-encryption.org/v1\n${`-> X25519 x\n${BODY}`.repeat(1001)}${MAC}`;
    expect(inspectAgeEnvelope(armored(many))).toMatchObject({ ok: false, problem: expect.stringContaining("more than 1000") });
  });
});

// found by the keyless fuzz (pnpm fuzz): a line of the payload duplicated or cut keeps a readable header
describe("agePayloadBytes", () => {
  it("is 64 for a wrapped 32-byte data key (16-byte nonce, 32 bytes, 16-byte tag), from age and from this package's writer", async () => {
    expect(WRAPPED_DATA_KEY_PAYLOAD_BYTES).toBe(64);
    expect(agePayloadBytes(ONE_RECIPIENT)).toBe(64);
    expect(agePayloadBytes(TWO_RECIPIENTS)).toBe(64);
    const { recipient } = await generateIdentity();
    expect(agePayloadBytes(await wrapDataKey(new Uint8Array(32), recipient))).toBe(64);
  });

  it("counts the bytes after the header of any readable envelope, and is undefined for an unreadable one", () => {
    expect(agePayloadBytes(armored(`age-encryption.org/v1\n-> X25519 x\n${BODY}${MAC}payload`))).toBe(7);
    expect(agePayloadBytes(armored(`age-encryption.org/v1\n-> X25519 x\n${BODY}${MAC}`))).toBe(0);
    expect(agePayloadBytes("hello")).toBeUndefined();
    expect(agePayloadBytes(armored(`age-encryption.org/v1\n${MAC}`))).toBeUndefined();
  });
});

describe("ageStanzaTypeFor", () => {
  it("maps each recipient kind to the stanza type age writes for it", async () => {
    const { recipient } = await generateIdentity();
    expect(ageStanzaTypeFor(recipient)).toBe("X25519");
    expect(ageStanzaTypeFor(`age1pq1${"q".repeat(100)}`)).toBe("mlkem768x25519");
    expect(ageStanzaTypeFor("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA")).toBe("ssh-ed25519");
    expect(ageStanzaTypeFor("ssh-rsa AAAAB3")).toBe("ssh-rsa");
    expect(ageStanzaTypeFor("age1yubikey1qqqq")).toBeUndefined();
  });
});

describe("inspectAgeEnvelope: the X25519 stanza's shape (age's X25519 grammar)", () => {
  const SHARE = "HZO0MIYFClbFQW/Y+bOWjbZbfYdYyKrRI7evL7qvnj8"; // 43 characters, 32 bytes
  const header = (stanza: string): string => armored(`age-encryption.org/v1\n${stanza}${MAC}payload`);

  it("reads a well-formed X25519 stanza (one 43-character share, a 32-byte body)", () => {
    expect(inspectAgeEnvelope(header(`-> X25519 ${SHARE}\n${BODY}`))).toMatchObject({ ok: true, stanzas: [{ type: "X25519", args: [SHARE] }] });
  });

  it.each([
    ["a short share", `-> X25519 ${SHARE.slice(0, 42)}\n${BODY}`, /stanza 1 \(X25519\).*argument/],
    ["a long share", `-> X25519 ${SHARE}AA\n${BODY}`, /stanza 1 \(X25519\).*argument/],
    ["a padded share", `-> X25519 ${SHARE}=\n${BODY}`, /stanza 1 \(X25519\).*argument/],
    ["non-zero spare bits in the share", `-> X25519 ${SHARE.slice(0, 42)}9\n${BODY}`, /stanza 1 \(X25519\).*argument/],
    ["two arguments", `-> X25519 ${SHARE} ${SHARE}\n${BODY}`, /stanza 1 \(X25519\).*2 arguments/],
    ["no argument", `-> X25519\n${BODY}`, /stanza 1 \(X25519\).*0 arguments/],
    ["a short body", `-> X25519 ${SHARE}\n${BODY.slice(0, 40)}\n`, /stanza 1 \(X25519\).*body is 30 bytes/],
    ["an empty body", `-> X25519 ${SHARE}\n\n`, /stanza 1 \(X25519\).*body is 0 bytes/],
    ["a body of two lines", `-> X25519 ${SHARE}\n${"A".repeat(64)}\nAAAA\n`, /stanza 1 \(X25519\).*body is 51 bytes/],
  ])("reports an X25519 stanza with %s as malformed, by itself", (_, stanza, why) => {
    const info = inspectAgeEnvelope(header(stanza));
    expect(info.ok).toBe(false);
    if (!info.ok) expect(info.problem).toMatch(why);
  });

  it("names the malformed stanza among several, and leaves other stanza types alone", () => {
    const info = inspectAgeEnvelope(header(`-> piv-p256 x\n\n-> X25519 ${SHARE}\n${BODY}-> X25519 x\n${BODY}`));
    expect(info).toMatchObject({ ok: false, problem: expect.stringMatching(/stanza 3 \(X25519\)/) });
  });

  it("keeps counting the payload of an envelope whose X25519 stanza is malformed (what stale-mac reads)", () => {
    expect(agePayloadBytes(header(`-> X25519 x\n${BODY}`))).toBe(7);
  });
});
