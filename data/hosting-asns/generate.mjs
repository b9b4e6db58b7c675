// Regenerates hosting-asns.json from X4BNet/lists_vpn input/datacenter/ASN.txt (MIT).
// Usage: git -C <lists_vpn clone> show <commit>:input/datacenter/ASN.txt | node data/hosting-asns/generate.mjs <commit> <commit date YYYY-MM-DD>
import { readFileSync, writeFileSync } from 'node:fs';

const commit = process.argv[2] ?? 'unknown';
const date = process.argv[3] ?? 'unknown';
const text = readFileSync(0, 'utf8');
const asns = [...new Set([...text.matchAll(/^AS(\d+)/gm)].map((m) => Number(m[1])))].sort((a, b) => a - b);
const out = {
  source: 'X4BNet/lists_vpn input/datacenter/ASN.txt',
  commit,
  date,
  license:
    'MIT License. Copyright (c) 2024 X4B (Mathew Heard). Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the "Software"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions: The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.',
  note: 'Autonomous systems of data-centre, hosting, cloud and CDN networks as listed upstream (some entries are broader networks; override per site).',
  asns,
};
writeFileSync(new URL('./hosting-asns.json', import.meta.url), JSON.stringify(out) + '\n');
console.log(asns.length, 'ASNs');
