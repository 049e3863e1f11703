#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: no build step, so `npx maitred` always runs what is checked out.
import { register } from 'tsx/esm/api'

register()
await import('../src/cli/main.ts')
