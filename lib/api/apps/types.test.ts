import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IntOrStringError, getScaledValueFromIntOrPercent, intOrStringValue, layoutContainerCells } from './types.js';

test('getScaledValueFromIntOrPercent takes integers as they are', () => {
  assert.equal(getScaledValueFromIntOrPercent(3, 10, true), 3);
  assert.equal(getScaledValueFromIntOrPercent(0, 10, false), 0);
});

test('getScaledValueFromIntOrPercent rounds percentages up for surge and down for unavailable', () => {
  // The Deployment defaults: 25% of 10 replicas is 2.5.
  assert.equal(getScaledValueFromIntOrPercent('25%', 10, true), 3);
  assert.equal(getScaledValueFromIntOrPercent('25%', 10, false), 2);
  assert.equal(getScaledValueFromIntOrPercent('25%', 1, true), 1);
  assert.equal(getScaledValueFromIntOrPercent('25%', 1, false), 0);
  assert.equal(getScaledValueFromIntOrPercent('100%', 7, false), 7);
  assert.equal(getScaledValueFromIntOrPercent('0%', 7, true), 0);
  assert.equal(getScaledValueFromIntOrPercent('33%', 3, false), 0);
  assert.equal(getScaledValueFromIntOrPercent('34%', 3, true), 2);
});

test('getScaledValueFromIntOrPercent rejects strings with Kubernetes error texts', () => {
  assert.throws(() => getScaledValueFromIntOrPercent('5', 10, true), {
    name: 'IntOrStringError',
    message: 'invalid value for IntOrString: invalid type: string is not a percentage',
  });
  assert.throws(() => getScaledValueFromIntOrPercent('abc%', 10, true), {
    message: 'invalid value for IntOrString: invalid value "abc%": strconv.Atoi: parsing "abc": invalid syntax',
  });
  assert.throws(() => getScaledValueFromIntOrPercent('%', 10, true), {
    message: 'invalid value for IntOrString: invalid value "%": strconv.Atoi: parsing "": invalid syntax',
  });
  assert.throws(() => getScaledValueFromIntOrPercent('99999999999999999999%', 10, true), {
    message: 'invalid value for IntOrString: invalid value "99999999999999999999%": strconv.Atoi: parsing "99999999999999999999": value out of range',
  });
  assert.throws(() => getScaledValueFromIntOrPercent(undefined, 10, true), new IntOrStringError('nil value for IntOrString'));
});

test('intOrStringValue is IntValue(): numeric strings count, percentages do not', () => {
  assert.equal(intOrStringValue(4), 4);
  assert.equal(intOrStringValue('4'), 4);
  assert.equal(intOrStringValue('25%'), 0);
  assert.equal(intOrStringValue(undefined), 0);
});

test('layoutContainerCells joins names and images with commas', () => {
  assert.deepEqual(layoutContainerCells([{ name: 'web', image: 'nginx' }, { name: 'log', image: 'busybox:1.36' }]), {
    names: 'web,log',
    images: 'nginx,busybox:1.36',
  });
  assert.deepEqual(layoutContainerCells(undefined), { names: '', images: '' });
});
