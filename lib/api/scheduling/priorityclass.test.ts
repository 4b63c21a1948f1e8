import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldErrorMessage } from '../../machinery/field-errors.js';
import { type PriorityClass, priorityClasses, systemPriorityClasses } from './priorityclass.js';

const pc = (name: string, value: number, extra: Partial<PriorityClass> = {}): PriorityClass => ({ metadata: { name }, value, ...extra });
const errors = (obj: PriorityClass) => priorityClasses.validate!(obj).map((e) => fieldErrorMessage(e));

test('PriorityClass: user values above one billion are forbidden', () => {
  assert.deepEqual(errors(pc('ok', 1_000_000_000)), []);
  assert.deepEqual(errors(pc('big', 1_000_000_001)), ['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']);
});

test('PriorityClass: the system- prefix is reserved for the system classes as they are', () => {
  for (const spc of systemPriorityClasses()) assert.deepEqual(errors(spc), [], spc.metadata.name);
  assert.deepEqual(errors(pc('system-mine', 5)), [
    "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
  ]);
  assert.deepEqual(errors(pc('system-node-critical', 5)), [
    "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000",
  ]);
});

test('PriorityClass: defaults, bad preemptionPolicy, immutable value', () => {
  const obj = pc('a', 1);
  priorityClasses.defaults!(obj);
  assert.equal(obj.preemptionPolicy, 'PreemptLowerPriority');
  assert.deepEqual(errors(pc('a', 1, { preemptionPolicy: 'Sometimes' as never })), ['preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"']);
  const upd = priorityClasses.validateUpdate!(pc('a', 2, { preemptionPolicy: 'Never' }), pc('a', 1, { preemptionPolicy: 'PreemptLowerPriority' })).map((e) => fieldErrorMessage(e));
  assert.deepEqual(upd, ['value: Forbidden: may not be changed in an update.', 'preemptionPolicy: Invalid value: "Never": field is immutable']);
});

test('PriorityClass: table columns as kubectl prints them', () => {
  assert.deepEqual(
    priorityClasses.printerColumns!.map((c) => c.name),
    ['Name', 'Value', 'Global-Default', 'Age', 'PreemptionPolicy'],
  );
  const row = priorityClasses.printerColumns!.map((c) => c.cell(pc('a', 7, { globalDefault: true, preemptionPolicy: 'Never' }), new Date()));
  assert.deepEqual(row.slice(0, 3), ['a', 7, true]);
  assert.equal(row[4], 'Never');
});
