import type { Command } from "commander"; export function registerScanCommand(_p: Command, _w: unknown): void {}
