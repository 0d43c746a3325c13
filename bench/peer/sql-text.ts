// Small pieces of SQL text the peer's scripts share.

export const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The program \copy runs; psql hands it to the shell, so the path must need no escaping. */
export function catProgram(path: string): string {
  if (/["'`$\\\n]/.test(path)) throw new Error(`path not supported by the PostgreSQL peer: ${path}`);
  return `zcat -f "${path}"`;
}

/** A JavaScript regex source from the contract as a PostgreSQL ARE (NUL cannot occur in text). */
export function pgPattern(jsPattern: string): string {
  return `^(${jsPattern.replace(/\\x00/g, '\\x01')})$`;
}
