// The shapes of the codelist declarations: a published file, and a list derived from files.

export interface SourceFile {
  /** Path under pipeline/codelists/source/. */
  file: string;
  /** Where it was published: owner/repository@commit:path, or the publisher's page. */
  origin: string;
  /** The publisher's version of the list, where it names one. */
  version: string;
  licence: string;
  codeColumn: string;
  termColumn: string;
  /** Tab-separated `code<TAB>term` lines with no header (default: CSV with a header). */
  headerless?: boolean;
}

export interface Drop {
  why: string;
  /** Rows whose term matches. */
  termMatches?: RegExp;
  /** These codes. */
  codes?: string[];
  /** Codes that are on these other lists (each code counts towards one condition only). */
  onLists?: string[];
  /** Codes a reader might expect on the list but that must not count. */
  nearMiss?: boolean;
}

export interface SourceUse {
  file: string;
  /** Keep only rows whose term matches (default: every row). */
  keep?: RegExp;
  /** BNF lists: keep chemical substances whose code starts with one of these (chapter 2,
   * section 4, paragraph 6, sub-paragraph 7 characters, or a chemical's 9). */
  bnfPrefixes?: string[];
}

export interface Derivation {
  id: string;
  from: SourceUse[];
  drop?: Drop[];
}
