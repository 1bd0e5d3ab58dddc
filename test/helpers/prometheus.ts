// A strict reader of the Prometheus text exposition format 0.0.4, for the metrics tests: every
// sample belongs to a family announced by # HELP and # TYPE before it, names and labels are well
// formed, label values unescape, values are floats, and no series repeats. Throws on anything else.

export interface Family {
  help: string;
  type: string;
  /** Samples; a histogram's carry their series name (NAME_bucket, NAME_sum, NAME_count). */
  samples: Array<{ labels: Record<string, string>; value: number; name?: string }>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

function value(text: string): number {
  if (text === 'NaN') return NaN;
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (!/^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(text)) throw new Error(`bad sample value ${text}`);
  return Number(text);
}

export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a line feed');
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  for (const line of text.slice(0, -1).split('\n')) {
    const help = /^# HELP (\S+) (.+)$/.exec(line);
    if (help) {
      if (!NAME.test(help[1]!) || families.has(help[1]!)) throw new Error(`bad or repeated HELP: ${line}`);
      families.set(help[1]!, { help: help[2]!, type: '', samples: [] });
      continue;
    }
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      const family = families.get(type[1]!);
      if (family === undefined || family.type !== '' || family.samples.length > 0) throw new Error(`TYPE without HELP, repeated or late: ${line}`);
      family.type = type[2]!;
      continue;
    }
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    // A histogram's series are NAME_bucket (with le), NAME_sum and NAME_count.
    const base = /^(.*)_(bucket|sum|count)$/.exec(sample[1]!)?.[1];
    const family = families.get(sample[1]!) ?? (base !== undefined && families.get(base)?.type === 'histogram' ? families.get(base) : undefined);
    if (family === undefined || family.type === '') throw new Error(`sample before its HELP and TYPE: ${line}`);
    if (family.type === 'histogram' && sample[1]!.endsWith('_bucket') && !/le="/.test(sample[2] ?? '')) throw new Error(`histogram bucket without le: ${line}`);
    if (family.type === 'counter' && !sample[1]!.endsWith('_total')) throw new Error(`counter not named *_total: ${line}`);
    const labels: Record<string, string> = {};
    const body = sample[2] ?? '';
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const m = LABEL.exec(body);
      if (!m) throw new Error(`bad labels: ${line}`);
      labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const key = `${sample[1]}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`repeated series: ${line}`);
    seen.add(key);
    family.samples.push({ labels, value: value(sample[3]!), ...(family.type === 'histogram' ? { name: sample[1]! } : {}) });
  }
  return families;
}

/** The one sample of `name` whose labels include `where`, or undefined. */
export function sampleOf(families: Map<string, Family>, name: string, where: Record<string, string> = {}): number | undefined {
  return families.get(name)?.samples.find((s) => Object.entries(where).every(([k, v]) => s.labels[k] === v))?.value;
}
