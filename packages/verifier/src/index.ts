// @bmapkit/verifier: scaffold. Per-range hashing
// Its stages land with issue(s)  verify chunks against a bmap, generate checksums for create, read-back verification of a written destination.:3 (generate), 4 (verify) and 5 (read-back); until then it exports nothing.
export {};
