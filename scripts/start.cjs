#!/usr/bin/env node
// The main job, until the notebooks land: a short demo of the library on the seed's address.
const lab = require('../dist');

const seed = 'ffffea000005b2d0';
const parts = lab.splitVirtualAddress(seed);
console.log(`The seed's faulting address ${parts.address} splits into`);
console.log(`  PML4 index 0x${parts.pml4.toString(16)} (${parts.pml4}), PDPT ${parts.pdpt}, PD ${parts.pd}, PT ${parts.pt}, offset 0x${parts.offset.toString(16)}`);
const mem = new lab.PhysicalMemory();
const pml4 = mem.allocFrame();
const result = lab.walk(mem, { cr3: BigInt(pml4 * 4096) }, seed, { kind: 'read', user: false });
const last = result.steps[result.steps.length - 1];
console.log(`Walked through an empty PML4: L4[0x${last.index.toString(16)}] = ${last.entry.toString(16).padStart(16, '0')}`);
console.log(`  -> page fault, error code ${lab.decodeErrorCode(result.errorCode).hex}:`);
for (const line of lab.decodeErrorCode(result.errorCode).bits) console.log(`     ${line}`);
