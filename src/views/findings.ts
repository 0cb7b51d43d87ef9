/**
 * Views of `ckpt findings`: text (a block per finding with its evidence as a hexdump), JSON, and
 * SARIF 2.1.0 for code-scanning and SIEM tools. Pure: findings in, text out.
 */
import type { Finding, FindingRule, Severity } from '../model/findings.js';
import { jsonText, safe, style } from './format.js';
import { hexRow, printable, toHex } from './hexdump.js';

const hex = (a: bigint) => `0x${a.toString(16)}`;

export interface FindingsSummary {
  total: number;
  bySeverity: Record<Severity, number>;
}

export function summarise(findings: readonly Finding[]): FindingsSummary {
  const bySeverity: Record<Severity, number> = { high: 0, medium: 0, low: 0, info: 0 };
  for (const f of findings) bySeverity[f.severity]++;
  return { total: findings.length, bySeverity };
}

/** One block per finding: `SEVERITY rule  where`, the explanation, then the evidence. */
export function findingsText(label: string, findings: readonly Finding[], options: { colour?: boolean; note?: string } = {}): string {
  const s = style(options.colour);
  const paint = (sev: Severity, t: string) => (sev === 'high' ? s.red(s.bold(t)) : sev === 'medium' ? s.yellow(t) : t);
  let out = '';
  for (const f of findings) {
    const where = [f.pid !== null ? `pid ${f.pid}` : '', f.address !== null ? hex(f.address) : '', f.path !== null ? safe(f.path) : ''].filter(Boolean).join('  ');
    out += `${paint(f.severity, f.severity.toUpperCase().padEnd(6))} ${s.bold(f.rule)}  ${where}\n`;
    out += `       ${safe(f.message)}\n`;
    const e = f.evidence;
    if (e) {
      const base = e.address ?? BigInt(e.offset ?? 0);
      out += `       ${e.kind === 'memory' ? 'first bytes of the region' : 'first bytes of the file'}${e.missing ? ` (${e.missing} of them not in the checkpoint, shown as 00)` : ''}:\n`;
      for (let i = 0; i < e.bytes.length; i += 16) out += `         ${hexRow(base + BigInt(i), e.bytes.subarray(i, i + 16))}\n`;
      if (e.disassembly?.length) {
        out += '       disassembly:\n';
        for (const l of e.disassembly) out += `         ${l}\n`;
      }
    }
    out += '\n';
  }
  const sum = summarise(findings);
  const parts = (['high', 'medium', 'low', 'info'] as const).filter((k) => sum.bySeverity[k]).map((k) => `${sum.bySeverity[k]} ${k}`);
  out += sum.total === 0 ? `No findings in ${safe(label)}.\n` : `${sum.total} finding${sum.total === 1 ? '' : 's'} in ${safe(label)}: ${parts.join(', ')}.\n`;
  if (options.note) out += `${options.note}\n`;
  return out;
}

function evidenceJson(f: Finding): Record<string, unknown> | null {
  const e = f.evidence;
  if (!e) return null;
  return {
    kind: e.kind,
    address: e.address !== null ? hex(e.address) : null,
    offset: e.offset,
    length: e.bytes.length,
    missing_bytes: e.missing,
    hex: toHex(e.bytes),
    ascii: printable(e.bytes),
    disassembly: e.disassembly,
  };
}

/** A finding as a JSON value: every key present, null where there is no value. */
export function findingJson(f: Finding): Record<string, unknown> {
  return { rule: f.rule, severity: f.severity, pid: f.pid, address: f.address !== null ? hex(f.address) : null, path: f.path, message: f.message, evidence: evidenceJson(f) };
}

/** `ckpt findings --format json`. */
export function findingsJson(label: string, findings: readonly Finding[]): string {
  const sum = summarise(findings);
  return jsonText({ checkpoint: label, summary: { total: sum.total, high: sum.bySeverity.high, medium: sum.bySeverity.medium, low: sum.bySeverity.low, info: sum.bySeverity.info }, findings: findings.map(findingJson) }, 2) + '\n';
}

const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { high: 'error', medium: 'warning', low: 'note', info: 'note' };
/** GitHub code scanning reads `security-severity` (0-10) for its critical/high/medium/low. */
const SECURITY_SEVERITY: Record<Severity, string> = { high: '8.0', medium: '5.0', low: '3.0', info: '0.0' };

/**
 * `ckpt findings --format sarif`: SARIF 2.1.0, one run, the rules as the tool's rules, each
 * finding a result located in the checkpoint file with the process, address or path as logical
 * locations.
 */
export function findingsSarif(label: string, findings: readonly Finding[], rules: readonly FindingRule[], tool: { name: string; version: string; informationUri?: string }): string {
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const uri = label.split('/').map(encodeURIComponent).join('/');
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: tool.name,
            version: tool.version,
            ...(tool.informationUri ? { informationUri: tool.informationUri } : {}),
            rules: rules.map((r) => ({
              id: r.id,
              name: r.id.replace(/(^|-)([a-z])/g, (_, _d: string, c: string) => c.toUpperCase()),
              shortDescription: { text: r.title },
              defaultConfiguration: { level: SARIF_LEVEL[r.severity] },
              properties: { 'security-severity': SECURITY_SEVERITY[r.severity], tags: ['security', 'forensics'] },
            })),
          },
        },
        artifacts: [{ location: { uri } }],
        results: findings.map((f) => {
          const logical: Record<string, string>[] = [];
          if (f.pid !== null) logical.push({ kind: 'process', name: `pid ${f.pid}`, fullyQualifiedName: `pid ${f.pid}` });
          if (f.address !== null) logical.push({ kind: 'member', name: hex(f.address), fullyQualifiedName: f.pid !== null ? `pid ${f.pid}/${hex(f.address)}` : hex(f.address) });
          if (f.path !== null) logical.push({ kind: 'resource', name: f.path, fullyQualifiedName: f.path });
          return {
            ruleId: f.rule,
            ...(index.has(f.rule) ? { ruleIndex: index.get(f.rule) } : {}),
            level: SARIF_LEVEL[f.severity],
            message: { text: f.message },
            locations: [{ physicalLocation: { artifactLocation: { uri, index: 0 } }, logicalLocations: logical }],
            partialFingerprints: { ckptFinding: `${f.rule}/${f.pid ?? ''}/${f.address !== null ? hex(f.address) : ''}/${f.path ?? ''}` },
            properties: { severity: f.severity, pid: f.pid, address: f.address !== null ? hex(f.address) : null, path: f.path, evidence: evidenceJson(f) },
          };
        }),
      },
    ],
  };
  return jsonText(sarif, 2) + '\n';
}
