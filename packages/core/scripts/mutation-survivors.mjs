#!/usr/bin/env node
// The mutants of core's rules that no test kills, each listed in MUTATION.md with the reason
// it stays: equivalent (no input can tell it from the code), or what it would take to kill.
//   node scripts/mutation-survivors.mjs            prints the survivors and the score of each module
//   node scripts/mutation-survivors.mjs --write    adds the new survivors to MUTATION.md (reason to fill in) and drops the killed ones
//   node scripts/mutation-survivors.mjs --check    fails when a survivor is not listed or a listed one no longer survives, and counts those not judged yet
// It reads stryker-incremental.json, which `pnpm run mutation` (StrykerJS) writes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CORE = join(dirname(fileURLToPath(import.meta.url)), '..');
const REPORT = join(CORE, 'stryker-incremental.json');
const LIST = join(CORE, 'MUTATION.md');
const UNJUDGED = 'not judged yet';
const mode = process.argv.includes('--write') ? 'write' : process.argv.includes('--check') ? 'check' : 'print';

if (!existsSync(REPORT)) {
  console.error(`mutation-survivors: ${REPORT} is missing: run pnpm --filter @devcontainer-factory/core run mutation first`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(REPORT, 'utf8'));
const survivors = [];
const scores = [];
for (const [file, { mutants }] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
  let killed = 0;
  let judged = 0;
  for (const m of mutants) {
    if (m.status === 'Ignored' || m.status === 'CompileError' || m.status === 'RuntimeError') continue;
    judged += 1;
    if (m.status === 'Killed' || m.status === 'Timeout') killed += 1;
    if (m.status === 'Survived' || m.status === 'NoCoverage') {
      const { line, column } = m.location.start;
      survivors.push({
        key: `${file}:${line}:${column} ${m.mutatorName}`,
        replacement: (m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 80),
        status: m.status,
      });
    }
  }
  scores.push({ file, killed, judged });
}

/** The rows of MUTATION.md's table: key → reason. */
function listed() {
  const rows = new Map();
  if (!existsSync(LIST)) return rows;
  for (const line of readFileSync(LIST, 'utf8').split('\n')) {
    const m = /^\| `([^`]+)` \| (.*?) \| (.*?) \|$/.exec(line);
    if (m) rows.set(m[1], m[3].trim());
  }
  return rows;
}

const cell = (text) => text.replace(/\|/g, '\\|').replace(/`/g, "'");

function render(rows) {
  const head = existsSync(LIST) ? readFileSync(LIST, 'utf8').split('\n| mutant |')[0].trimEnd() : '# Surviving mutants';
  const table = survivors.map(
    (s) => `| \`${s.key}\` | ${cell(s.replacement)}${s.status === 'NoCoverage' ? ' (no test runs it)' : ''} | ${rows.get(s.key) || UNJUDGED} |`,
  );
  return `${head}\n\n| mutant | replaced by | why it stays |\n|---|---|---|\n${table.join('\n')}\n`;
}

for (const { file, killed, judged } of scores)
  console.log(`  ${file.padEnd(36)} ${judged ? ((100 * killed) / judged).toFixed(1).padStart(5) : '  n/a'}%  (${killed} of ${judged} killed)`);
const total = scores.reduce((t, s) => ({ killed: t.killed + s.killed, judged: t.judged + s.judged }), { killed: 0, judged: 0 });
console.log(
  `  ${'all'.padEnd(36)} ${((100 * total.killed) / total.judged).toFixed(1).padStart(5)}%  (${total.killed} of ${total.judged} killed, ${survivors.length} survive)`,
);

const rows = listed();
if (mode === 'write') {
  writeFileSync(LIST, render(rows));
  console.log(`mutation-survivors: wrote ${survivors.length} survivors to ${LIST}`);
} else if (mode === 'check') {
  const keys = new Set(survivors.map((s) => s.key));
  const problems = [
    ...survivors.filter((s) => !rows.has(s.key)).map((s) => `${s.key} survives and is not listed: kill it with a test, or list it with why it stays`),
    ...[...rows.keys()]
      .filter((k) => !keys.has(k))
      .map((k) => `${k} is listed but no longer survives: drop its row (node scripts/mutation-survivors.mjs --write)`),
  ];
  if (problems.length) {
    for (const p of problems) console.error(`  ${p}`);
    console.error(`mutation-survivors: ${problems.length} problem(s) with ${LIST}`);
    process.exit(1);
  }
  const unjudged = survivors.filter((s) => rows.get(s.key) === UNJUDGED || rows.get(s.key) === '').length;
  console.log(
    `mutation-survivors: every one of the ${survivors.length} survivors is listed; ${survivors.length - unjudged} with why it stays, ${unjudged} ${unjudged === 1 ? 'is' : 'are'} still to be judged (killed by a test, or shown equivalent)`,
  );
}
