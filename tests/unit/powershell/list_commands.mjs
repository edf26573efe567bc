#!/usr/bin/env node
// Prints the names of the commands called in PowerShell scripts, as the
// tree-sitter PowerShell grammar parses them (the parser pscheck uses; its
// node modules come from PSCHECK_HOME): one `FILE<TAB>NAME` line per distinct
// command of each file, sorted. Usage: list_commands.mjs FILE.ps1...
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';
import { pathToFileURL } from 'url';

const home = process.env.PSCHECK_HOME;
if (!home) { console.error('list_commands: set PSCHECK_HOME'); process.exit(2); }
const req = createRequire(path.join(home, 'package.json'));
const { Parser, Language } = await import(pathToFileURL(req.resolve('web-tree-sitter')).href);
const wasm = path.join(path.dirname(req.resolve('tree-sitter-powershell/package.json')), 'tree-sitter-powershell.wasm');
await Parser.init();
const parser = new Parser();
parser.setLanguage(await Language.load(wasm));
const lines = new Set();
for (const file of process.argv.slice(2)) {
  const base = path.basename(file);
  const walk = node => {
    if (node.type === 'command_name') lines.add(`${base}\t${node.text}`);
    for (const c of node.children) walk(c);
  };
  walk(parser.parse(fs.readFileSync(file, 'utf8')).rootNode);
}
console.log([...lines].sort().join('\n'));
