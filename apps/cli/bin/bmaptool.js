#!/usr/bin/env node
// The installed `bmaptool` and `bmapkit` commands. A committed file in front
// of the build (dist/), so that a workspace install can link the command
// before anything is built.
import '../dist/bmaptool.js';
