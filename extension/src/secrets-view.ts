/**
 * The Secrets view: every secret of every project (names × environments, set or missing, and
 * the number of references), from the server's index. Refreshed when the server says the index
 * changed. Unused secrets look different; clicking a secret shows its references; paths are
 * relative to the workspace.
 */
import * as vscode from "vscode";
import type { ProjectInfo, SecretInfo, EnvironmentInfo } from "@stellar-secrets/language-server/protocol";
import { missingIn, refsLabel, secretDescription } from "./presentation.js";

/** A node of the tree. */
export type SecretsNode =
  | { type: "project"; project: ProjectInfo }
  | { type: "secret"; project: ProjectInfo; secret: SecretInfo }
  | { type: "environment"; project: ProjectInfo; secret: SecretInfo; environment: EnvironmentInfo }
  | { type: "message"; text: string };

/** Tree data for the `stellarSecrets.secrets` view. */
export class SecretsTreeProvider implements vscode.TreeDataProvider<SecretsNode> {
  private readonly changed = new vscode.EventEmitter<SecretsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private projects: ProjectInfo[] | undefined;

  constructor(private readonly load: () => Promise<ProjectInfo[]>) {}

  /** Forgets the cached projects and redraws the tree. */
  refresh(): void {
    this.projects = undefined;
    this.changed.fire(undefined);
  }

  /** The projects as last loaded (loads them when needed). */
  async getProjects(): Promise<ProjectInfo[]> {
    this.projects ??= await this.load();
    return this.projects;
  }

  async getChildren(node?: SecretsNode): Promise<SecretsNode[]> {
    if (node === undefined) {
      let projects: ProjectInfo[];
      try {
        projects = await this.getProjects();
      } catch (e) {
        return [{ type: "message", text: `Language server not ready: ${(e as Error).message}` }];
      }
      if (projects.length === 0) return [{ type: "message", text: "No stellar.yaml in this workspace." }];
      if (projects.length === 1) return secretsOf(projects[0]!);
      return projects.map((project) => ({ type: "project", project }));
    }
    if (node.type === "project") return secretsOf(node.project);
    if (node.type === "secret") {
      return node.project.environments.map((environment) => ({ type: "environment", project: node.project, secret: node.secret, environment }));
    }
    return [];
  }

  getTreeItem(node: SecretsNode): vscode.TreeItem {
    switch (node.type) {
      case "message": {
        const item = new vscode.TreeItem(node.text);
        item.tooltip = node.text;
        return item;
      }
      case "project": {
        const item = new vscode.TreeItem(displayPath(node.project.root), vscode.TreeItemCollapsibleState.Expanded);
        item.description = `${node.project.secrets.length} secret${node.project.secrets.length === 1 ? "" : "s"}`;
        item.tooltip = node.project.configPath;
        item.contextValue = "project";
        item.iconPath = new vscode.ThemeIcon("folder-library");
        return item;
      }
      case "secret": {
        const { secret, project } = node;
        const item = new vscode.TreeItem(secret.name, vscode.TreeItemCollapsibleState.Collapsed);
        const missing = missingIn(project, secret);
        item.description = secretDescription(project, secret);
        item.tooltip = new vscode.MarkdownString(
          [
            `**${secret.name}**`,
            secret.description ?? "",
            secret.owner ? `Owner: ${secret.owner}` : "",
            secret.rotationOverdue !== undefined && secret.rotationOverdue.length > 0 ? `Rotation overdue in ${secret.rotationOverdue.join(", ")} (older than its catalog rotate_every)` : "",
            ...project.environments.map((e) => `- ${e.name}: ${secret.environments.includes(e.name) ? "set" : "missing"}`),
            secret.references === 0 ? "Unused: nothing references it." : `${refsLabel(secret.references)} (click to show)`,
          ]
            .filter((l) => l !== "")
            .join("\n\n"),
        );
        item.contextValue = secret.references === 0 ? "secret-unused" : "secret";
        item.iconPath =
          secret.references === 0
            ? new vscode.ThemeIcon("circle-large-outline", new vscode.ThemeColor("disabledForeground"))
            : new vscode.ThemeIcon(missing.length === 0 ? "key" : "warning", missing.length === 0 ? undefined : new vscode.ThemeColor("list.warningForeground"));
        if (secret.references > 0) item.command = { title: "Show references", command: "stellarSecrets.showReferences", arguments: [secret.name, project.root] };
        item.id = `${project.root}\u0000${secret.name}`;
        return item;
      }
      case "environment": {
        const set = node.secret.environments.includes(node.environment.name);
        const item = new vscode.TreeItem(node.environment.name);
        item.description = set ? "set" : "missing";
        item.iconPath = new vscode.ThemeIcon(set ? "pass" : "circle-slash");
        item.contextValue = set ? "environment-set" : "environment-missing";
        item.id = `${node.project.root}\u0000${node.secret.name}\u0000${node.environment.name}`;
        return item;
      }
    }
  }
}

/** A path as the workspace names it (relative to its folder; the folder's name for the folder itself). */
export function displayPath(path: string): string {
  const rel = vscode.workspace.asRelativePath(path, true);
  if (rel !== "" && !rel.endsWith("/")) return rel;
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(path));
  return folder?.name ?? path;
}

function secretsOf(project: ProjectInfo): SecretsNode[] {
  const config = vscode.workspace.asRelativePath(project.configPath, true);
  if (!project.valid) return [{ type: "message", text: `${config} has errors (see Problems).` }];
  const stale: SecretsNode[] = project.stale ? [{ type: "message", text: `${config} has errors: showing its last good version.` }] : [];
  if (project.secrets.length === 0) return [{ type: "message", text: "No secrets yet. Add one with the + button." }];
  return [...stale, ...project.secrets.map((secret): SecretsNode => ({ type: "secret", project, secret }))];
}
