// Reads Markdown on stdin and renders it with markdown-it (CommonMark with
// GitHub's tables), as a job summary renders; prints what a reader sees:
// {"tables": [{"header": [cells], "rows": [[cells]]}], "links": [{text, href}]},
// each cell as its text (entities decoded, markup removed).
import MarkdownIt from 'markdown-it';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const md = new MarkdownIt({ html: false, linkify: false });
const tokens = md.parse(Buffer.concat(chunks).toString('utf8'), {});

const tables = [];
const links = [];
let table = null, row = null, cell = null, link = null;
const text = (t) => t.children ? t.children.filter((c) => c.type === 'text' || c.type === 'code_inline').map((c) => c.content).join('') : t.content;
for (const t of tokens) {
  switch (t.type) {
    case 'table_open': table = { header: [], rows: [] }; break;
    case 'table_close': tables.push(table); table = null; break;
    case 'tr_open': row = []; break;
    case 'tr_close': if (table.header.length === 0) table.header = row; else table.rows.push(row); row = null; break;
    case 'inline':
      if (row) row.push(text(t));
      for (const c of t.children || []) {
        if (c.type === 'link_open') link = { text: '', href: c.attrGet('href') };
        else if (c.type === 'text' && link) link.text += c.content;
        else if (c.type === 'link_close') { links.push(link); link = null; }
      }
      break;
  }
}
console.log(JSON.stringify({ tables, links }));
