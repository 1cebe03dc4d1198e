// Reads a Mermaid chart on stdin and parses it with Mermaid's own parser,
// the one GitHub renders job summaries with. On success it prints
// {"type": ..., "tasks": [{section, task, id, crit, milestone}]} (gantt
// charts); on a parse error it prints the error and exits 1.
import mermaid from 'mermaid';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const text = Buffer.concat(chunks).toString('utf8');
try {
  const { diagramType } = await mermaid.parse(text);
  const out = { type: diagramType, tasks: [] };
  if (diagramType === 'gantt') {
    const d = await mermaid.mermaidAPI.getDiagramFromText(text);
    out.tasks = d.db.getTasks().map((t) => ({
      section: t.section, task: t.task.trim(), id: t.id, crit: !!t.crit, milestone: !!t.milestone,
      start: t.startTime.toISOString(), end: t.endTime.toISOString(),
    }));
  }
  console.log(JSON.stringify(out));
} catch (e) {
  console.error(String(e && e.message ? e.message : e));
  process.exit(1);
}
