/**
 * Test support (not part of the package build): the config files the in-memory handler tests
 * share, so each test states only what it changes.
 */

/** The `create_ticket` action, its X-Api-Key header referencing `secret`. */
export const createTicketAction = (secret: string): string => `kind: action
name: create_ticket
connection: hubspot
method: POST
path: /tickets
headers:
  - { name: X-Api-Key, type: secret, secret: ${secret} }
`;

/** The `hubspot` connection the action uses. */
export const HUBSPOT_CONNECTION = `kind: api_connection
name: hubspot
base_url: https://api.hubapi.com
`;
