// The version msnl and msnld print (--version, `msnl status`); package.json carries the same
// string and test/base/version.test.ts keeps the two in step.

export const VERSION = '0.1.0';
