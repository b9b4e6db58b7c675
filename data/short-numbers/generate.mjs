// Regenerates short-numbers.json from libphonenumber's ShortNumberMetadata.xml (Apache-2.0).
// Usage: node data/short-numbers/generate.mjs <path/to/ShortNumberMetadata.xml> <commit>
import { readFileSync, writeFileSync } from 'node:fs';

const [xmlPath, commit = 'unknown'] = process.argv.slice(2);
if (!xmlPath) throw new Error('usage: generate.mjs ShortNumberMetadata.xml [commit]');
const xml = readFileSync(xmlPath, 'utf8').replace(/<!--[\s\S]*?-->/g, '');
const KINDS = {
  emergency: 'emergency',
  premiumRate: 'premiumRate',
  tollFree: 'tollFree',
  generalDesc: 'shortCode',
};
const regions = {};
for (const m of xml.matchAll(/<territory id="([A-Z0-9]{2,3})"[^>]*>([\s\S]*?)<\/territory>/g)) {
  const [, id, body] = m;
  const entry = {};
  for (const [tag, key] of Object.entries(KINDS)) {
    const block = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(body);
    const pat = block && /<nationalNumberPattern>([\s\S]*?)<\/nationalNumberPattern>/.exec(block[1]);
    if (pat) entry[key] = pat[1].replace(/\s+/g, '');
  }
  regions[id] = entry;
}
const out = {
  source: 'google/libphonenumber resources/ShortNumberMetadata.xml',
  commit,
  license: 'Apache-2.0 (Copyright (C) 2009 The Libphonenumber Authors)',
  note: "Per region: full-match regular expressions over the dialled digits. shortCode is the region's general short-number pattern.",
  regions,
};
writeFileSync(new URL('./short-numbers.json', import.meta.url), JSON.stringify(out, null, 1) + '\n');
console.log(Object.keys(regions).length, 'regions');
