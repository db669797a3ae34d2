#!/usr/bin/env node
import { cli } from './cli.ts';
import { processIo } from './io.ts';

process.exitCode = await cli(process.argv.slice(2), processIo());
