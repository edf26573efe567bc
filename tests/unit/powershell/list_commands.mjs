#!/usr/bin/env node
// Prints, one per line and sorted, the names of all commands called in the
// given PowerShell scripts, as the tree-sitter PowerShell grammar parses them
// (the same parser pscheck uses; its node modules come from PSCHECK_HOME).
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
const names = new Set();
function walk(node) {
  if (node.type === 'command_name') names.add(node.text);
  for (const c of node.children) walk(c);
}
for (const file of process.argv.slice(2)) walk(parser.parse(fs.readFileSync(file, 'utf8')).rootNode);
console.log([...names].sort().join('\n'));
