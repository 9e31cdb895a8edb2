// @bmapkit/extent-source: scaffold. Where image bytes come from
// Its stages land with issue(s)  sources (file, stdin, http) and extents (mapped ranges of a sparse file, cut out of a linear stream, or pulled from a random-access source).:3 (create), 4 (copy) and 6 (remote); until then it exports nothing.
export {};
