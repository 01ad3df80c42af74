/**
 * Cutting text short without breaking it: at a word boundary (Unicode word segmentation, so
 * "don't" or "3.14" stay whole), and only inside a word when the first word alone is too long,
 * then still at a grapheme boundary (never inside a surrogate pair or a combining sequence).
 */

const words = new Intl.Segmenter(undefined, { granularity: "word" });
const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** Whitespace and joining punctuation that should not dangle before an ellipsis. */
const DANGLING = /[\s,;:(\-–—•]+$/u;

function boundaries(segmenter: Intl.Segmenter, text: string, limit: number): number[] {
  const cuts: number[] = [];
  for (const { index } of segmenter.segment(text)) {
    if (index > limit) return cuts;
    if (index > 0) cuts.push(index);
  }
  if (text.length <= limit) cuts.push(text.length);
  return cuts;
}

/** Largest candidate for which `fits` holds, assuming it holds for every shorter one. */
function largestFitting(
  candidates: string[],
  fits: (prefix: string) => boolean,
): string | undefined {
  let lo = 0;
  let hi = candidates.length - 1;
  let best: string | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (fits(candidates[mid])) {
      best = candidates[mid];
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}

/**
 * The longest non-empty prefix of `text`, without trailing whitespace or dangling punctuation,
 * for which `fits(prefix)` holds; "" when none does. `fits` should be monotone (a shorter
 * prefix fits whenever a longer one does). Only prefixes up to `searchLimit` UTF-16 units
 * are tried, which keeps long inputs cheap when the caller knows a bound.
 */
export function longestPrefix(
  text: string,
  fits: (prefix: string) => boolean,
  searchLimit = text.length,
): string {
  const prefixesAt = (cuts: number[]) =>
    cuts.map((i) => text.slice(0, i).replace(DANGLING, "")).filter((p) => p !== "");
  return largestFitting(prefixesAt(boundaries(words, text, searchLimit)), fits) ??
    largestFitting(prefixesAt(boundaries(graphemes, text, searchLimit)), fits) ?? "";
}
