// Synthetic documents shaped like code-analysis results (one per symbol), shared by the
// collection benchmarks. Deterministic so every run measures the same bytes.
export function makeAnalysisDocs(n: number): { _id: string; [k: string]: unknown }[] {
  const kinds = ['function', 'class', 'method', 'interface', 'variable', 'type'];
  const langs = ['typescript', 'javascript', 'python', 'go'];
  const words = ['parse', 'index', 'token', 'cache', 'store', 'query', 'node', 'tree', 'symbol', 'range', 'emit', 'load'];
  let seed = 7;
  const rand = (m: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % m);
  const docs = [];
  for (let i = 0; i < n; i++) {
    const dir = `src/${words[rand(12)]}/${words[rand(12)]}`;
    const file = `${dir}/${words[rand(12)]}-${i % 500}.ts`;
    const name = `${words[rand(12)]}${words[rand(12)]![0]!.toUpperCase()}${words[rand(12)]!.slice(1)}${i}`;
    const start = rand(2000);
    docs.push({
      _id: `${file}#${name}`,
      path: file,
      language: langs[rand(4)],
      kind: kinds[rand(6)],
      name,
      fqn: `${dir.replaceAll('/', '.')}.${name}`,
      startLine: start,
      endLine: start + rand(80),
      signature: `${name}(${words[rand(12)]}: string, options?: ${words[rand(12)]}Options): Promise<void>`,
      references: Array.from({ length: rand(6) }, () => `${dir}/${words[rand(12)]}.ts:${rand(900)}`),
      complexity: rand(30),
      exported: rand(2) === 1,
      tags: [kinds[rand(6)]!, langs[rand(4)]!],
    });
  }
  return docs;
}
