// @bmapkit/bench: scaffold. `pnpm bench create` lands with issue 3 and
// `pnpm bench copy` with issue 4; until then it has nothing to run.
export {};
