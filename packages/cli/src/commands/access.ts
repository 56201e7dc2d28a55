import type { Command } from "../command.js";
const command: Command = { summary: "todo", help: "todo", run: async () => 0 };
export default command;
