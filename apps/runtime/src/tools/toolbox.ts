import type { TurnContext } from '../adapter.js';
import { McpHub } from './mcp.js';
import { memoryTools } from './memory.js';
import { runCommandTool } from './run-command.js';
import { SkillCache, missingRequirements, skillTool } from './skills.js';
import type { Tool } from './tool.js';

/**
 * The tools an agent gets on this plane, whichever runtime runs it: its skills (from the plane's
 * skill cache), long-term memory and MCP servers (stdio ones spawned here, remote ones called by the
 * control plane). One per plane, shared by the runtimes, so a skill is fetched and an MCP server
 * started once.
 */
export class Toolbox {
  private skillCache: SkillCache | null = null;
  private mcp: McpHub | null = null;

  /** `commands`: include run_command (SemiGraph's shell; OpenClaw brings its own exec tools). */
  async toolsFor(ctx: TurnContext, o: { commands: boolean }): Promise<Tool[]> {
    const tools: Tool[] = [...(o.commands ? [runCommandTool()] : []), ...memoryTools(ctx.services, ctx.agent.id, ctx.sessionId)];
    const usable = ctx.skills.filter((s) => {
      const missing = missingRequirements(s);
      if (missing.length === 0) return true;
      ctx.emit({ type: 'plan_step', stepId: `skill:${s.name}`, title: `Skill ${s.name} left out: missing ${missing.join(', ')}`, status: 'failed' });
      return false;
    });
    if (usable.length > 0) {
      this.skillCache ??= new SkillCache(`${ctx.planeHome}/skill-cache`, ctx.services);
      tools.push(skillTool(usable, this.skillCache));
    }
    if (ctx.mcpServers.length > 0) {
      this.mcp ??= new McpHub(ctx.services);
      const { tools: mcpTools, failures } = await this.mcp.toolsFor(ctx.mcpServers);
      tools.push(...mcpTools);
      for (const f of failures) ctx.emit({ type: 'plan_step', stepId: `mcp:${f.split(':')[0]}`, title: `MCP server unavailable: ${f}`, status: 'failed' });
    }
    return tools;
  }

  async close(): Promise<void> {
    await this.mcp?.close();
  }
}
