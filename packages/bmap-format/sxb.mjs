import { BmapScanner } from './dist/index.js';
import { SaxesParser } from 'saxes';
const N = 200000; let s = '<bmap version="1.2">\n<ImageSize> ' + N*16384 + ' </ImageSize><BlockSize> 4096 </BlockSize><BlocksCount> ' + N*4 + ' </BlocksCount><MappedBlocksCount> ' + N*2 + ' </MappedBlocksCount><BlockMap>\n';
for (let j = 0; j < N; j++) s += `  <Range sha1="${'ab'.repeat(20)}"> ${j * 4}-${j * 4 + 1} </Range>\n`;
s += '</BlockMap></bmap>';
const buf = Buffer.from(s, 'latin1');
for (let k = 0; k < 3; k++) {
  let t0 = performance.now();
  const sc = new BmapScanner({ keepRanges: false });
  sc.write(buf); sc.finish();
  console.log('scanner', ((performance.now() - t0)).toFixed(0) + 'ms');
  t0 = performance.now();
  const p = new SaxesParser({ position: true, xmlns: false });
  let n = 0; p.on('opentag', () => n++); p.on('text', () => n++); p.on('closetag', () => n++);
  const td = new TextDecoder('latin1');
  for (let o = 0; o < buf.length; o += 65536) p.write(td.decode(buf.subarray(o, o + 65536), { stream: true }));
  p.close();
  console.log('saxes', ((performance.now() - t0)).toFixed(0) + 'ms');
}
