import { describe, expect, it } from "vitest";
import { diffEdit, parseEdited, privateEditorArguments, renderForEditing } from "./commands/edit.js";
import type { CliError } from "./errors.js";

const error = (fn: () => unknown): { code: string; message: string; hint?: string } | undefined => {
  try {
    fn();
  } catch (e) {
    return { code: (e as CliError).code, message: (e as CliError).message, hint: (e as CliError).hint };
  }
  return undefined;
};

describe("editing text", () => {
  it("round-trips values, including multi-line, quotes and YAML-looking text", () => {
    const values = new Map([
      ["pem_key", "-----BEGIN-----\nabc\n-----END-----\n"],
      ["quoted", 'say "hi": yes'],
      ["looks_like_number", "0x1F"],
      ["looks_like_bool", "true"],
      ["spaces", "  padded  "],
    ]);
    const text = renderForEditing("development", values);
    expect(text.startsWith("# Secrets of environment")).toBe(true);
    expect(parseEdited(text)).toEqual(values);
  });

  it("round-trips values whose lines hold only spaces or tabs (a YAML block reads such a line as empty): an edit of another secret never changes them", () => {
    const values = new Map([
      ["a_key", " \n"],
      ["b_key", "x\n  \ny\n"],
      ["c_key", " \n\t\n"],
      ["d_key", "\n \n"],
      ["e_key", "kept\nas a block\n"],
    ]);
    const text = renderForEditing("development", values);
    expect(parseEdited(text)).toEqual(values);
    // what reads back as it is keeps the readable | block
    expect(text).toContain("e_key: |\n  kept\n  as a block\n");
  });

  it("an environment with no values opens the header alone, and an appended line is accepted", () => {
    const text = renderForEditing("development", new Map());
    expect(text).not.toContain("{}");
    expect(parseEdited(text)).toBeUndefined();
    expect(parseEdited(`${text}new_secret: value-1\n`)).toEqual(new Map([["new_secret", "value-1"]]));
  });

  it("keeps plain scalars as written", () => {
    expect(parseEdited("port_number: 0x1F\nflag_value: yes\n")).toEqual(new Map([["port_number", "0x1F"], ["flag_value", "yes"]]));
  });

  it("refuses a file nested thousands of levels deep as INVALID_VALUE with its line, never a stack overflow", () => {
    const e = error(() => parseEdited(`a_name: ok\nb_name: ${"[".repeat(5000)}${"]".repeat(5000)}\n`));
    expect(e?.code).toBe("INVALID_VALUE");
    expect(e?.message).toContain("line 2");
  });

  it("says how to write a value given as a mapping or a list, and how to delete one given none", () => {
    const nested = error(() => parseEdited("a_key: x\nnested_key:\n  a: 1\n"));
    expect([nested?.code, nested?.message]).toEqual(["INVALID_VALUE", 'line 2: "nested_key" needs a single text value']);
    expect(nested?.hint).toBe("a secret's value is one text: write it after the colon (quoted when it has special characters, or as a | block for several lines), not as a mapping");
    expect(error(() => parseEdited("list_key: [a, b]\n"))?.hint).toContain("not as a list");
    expect(error(() => parseEdited("none_key:\n"))?.hint).toBe("to delete a secret, delete its line");
  });

  it("treats an empty file as no change", () => {
    expect(parseEdited("")).toBeUndefined();
    expect(parseEdited("# only a comment\n")).toBeUndefined();
  });

  it("names the line but never the value in errors", () => {
    const bad = error(() => parseEdited("a_name: ok\nb_name: [super-secret-value\n"));
    expect(bad?.code).toBe("INVALID_VALUE");
    expect(bad?.message).not.toContain("super-secret-value");
    expect(error(() => parseEdited("Bad: x\n"))?.code).toBe("INVALID_SECRET_NAME");
    expect(error(() => parseEdited("a_name:\n"))?.code).toBe("INVALID_VALUE");
    expect(error(() => parseEdited("a_name: [1, 2]\n"))?.code).toBe("INVALID_VALUE");
    expect(error(() => parseEdited("a_name: x\na_name: y\n"))?.code).toBe("INVALID_VALUE");
    expect(error(() => parseEdited("- a\n"))?.code).toBe("INVALID_VALUE");
  });

  it("refuses a line whose name is a pasted credential (it would be stored in clear as a name), naming the line, never the text", () => {
    const e = error(() => parseEdited("a_name: ok\nsk_live_51hqlyjwdarjtt1zdp7dcxyz0123456789: x\n"));
    expect(e?.code).toBe("INVALID_SECRET_NAME");
    expect(e?.message).toContain("line 2");
    expect(e?.message).not.toContain("51hqlyjwdarjtt1zdp7dcxyz");
  });

  it("diffs edits into values to set and names to delete", () => {
    const original = new Map([["a", "1"], ["b", "2"], ["c", "3"]]);
    expect(diffEdit(original, new Map([["a", "1"], ["b", "20"], ["d", "4"]]))).toEqual({ set: new Map([["b", "20"], ["d", "4"]]), deleted: ["c"] });
  });
});

describe("edited bytes", () => {
  it("decodes UTF-8 strictly: invalid bytes are INVALID_VALUE, never replacement characters", async () => {
    const { editedText } = await import("./commands/edit.js");
    expect(editedText(Buffer.from("name: vé\n"))).toBe("name: vé\n");
    expect(error(() => editedText(Buffer.from([0x6e, 0x3a, 0x20, 0xff, 0x0a])))?.code).toBe("INVALID_VALUE");
  });
});

describe("privateEditorArguments", () => {
  const none = (): undefined => undefined;
  it("turns off Vim's and Neovim's viminfo/ShaDa, swap, backup and undo files, which would keep a deleted secret's line on disk", () => {
    const vimArgs = " -n -i NONE -c 'set nobackup nowritebackup noundofile'";
    expect(privateEditorArguments("vim", none)).toBe(vimArgs);
    expect(privateEditorArguments("nvim", none)).toBe(vimArgs);
    expect(privateEditorArguments("  /usr/local/bin/nvim -p  ", none)).toBe(vimArgs);
    expect(privateEditorArguments("'/opt/vim/bin/gvim' -f", none)).toBe(vimArgs);
    // vi (and any name) counts through the program it really runs: Debian's vi -> vim.basic
    expect(privateEditorArguments("vi", (w) => (w === "vi" ? "/usr/bin/vim.basic" : undefined))).toBe(vimArgs);
    expect(privateEditorArguments("editor", () => "/usr/bin/nvim")).toBe(vimArgs);
  });

  it("adds nothing for other editors, or a vi that is not Vim (nvi, busybox), which may not know those options", () => {
    expect(privateEditorArguments("vi", () => "/usr/bin/nvi")).toBe("");
    expect(privateEditorArguments("vi", () => "/bin/busybox")).toBe("");
    expect(privateEditorArguments("code --wait", none)).toBe("");
    expect(privateEditorArguments("nano", none)).toBe("");
    expect(privateEditorArguments("EDITOR_OPTS=1 vim", none)).toBe("");
  });
});
