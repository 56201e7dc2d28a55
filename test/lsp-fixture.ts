/** The secrets repository most protocol tests use (a small, realistic organisation). */
import { makeProject, type ProjectSpec, type TestProject } from "./lsp-harness.js";

export const STRIPE = `kind: auth_connector
name: stripe
type: api_key
api_key: { secret: stripe_api_key }
`;
export const HUBSPOT = `kind: api_connection
name: hubspot
base_url: https://api.hubapi.com
auth: stripe
headers:
  - name: Authorization
    type: secret
    secret: hubspot_api_token
    prefix: "Bearer "
  - { name: Accept, type: static, value: application/json }
`;
export const CREATE_TICKET = `kind: action
name: create_ticket
connection: hubspot
method: POST
path: /crm/v3/objects/tickets
environments: [development]
headers:
  - { name: X-Api-Key, type: secret, secret: zendesk_token }
`;
export const AGENT = `kind: agent
name: support
actions: [create_ticket]
`;
export const CATALOG = `secrets:
  stripe_api_key:
    description: Stripe secret key for billing
    owner: payments-team
    rotate_every: 90d
`;

/** Values: only here, to check that no response ever contains them. */
export const VALUES = {
  stripe: "sk_test_value_never_shown_1",
  hubspot: "hubspot-value-never-shown-2",
  zendesk: "zendesk-value-never-shown-3",
  legacy: "legacy-value-never-shown-4",
};

export function orgSpec(extra: Partial<ProjectSpec> = {}): ProjectSpec {
  return {
    secrets: {
      development: { stripe_api_key: VALUES.stripe, hubspot_api_token: VALUES.hubspot, zendesk_token: VALUES.zendesk, legacy_webhook_secret: VALUES.legacy },
      staging: { stripe_api_key: VALUES.stripe, hubspot_api_token: VALUES.hubspot },
      production: { stripe_api_key: VALUES.stripe, hubspot_api_token: VALUES.hubspot },
    },
    files: {
      "connectors/stripe.yaml": STRIPE,
      "connections/hubspot.yaml": HUBSPOT,
      "agents/support/actions/create_ticket.yaml": CREATE_TICKET,
      "agents/support/agent.yaml": AGENT,
      "secrets/catalog.yaml": CATALOG,
      ...(extra.files ?? {}),
    },
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== "files")),
  };
}

/** Makes the organisation in a temp folder. */
export function makeOrg(extra: Partial<ProjectSpec> = {}): Promise<TestProject> {
  return makeProject(orgSpec(extra));
}
