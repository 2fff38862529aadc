const { parseEntry, parseScan, codeFor } = require('../services/entry');

describe('services/entry: scans land on the right page', () => {
  test.each([
    ['https://daibiao.example.cn/d/DB0001', '/pages/deputy/index?code=DB0001'],
    ['https://daibiao.example.cn/p/xm001', '/pages/project/detail?code=XM001'],
    ['https://daibiao.example.cn/s/ZCG1/', '/pages/station/index?code=ZCG1'],
    ['https://daibiao.example.cn/app/d/DB0002?from=card', '/pages/deputy/index?code=DB0002'],
    ['https://daibiao.example.cn/w/W8K2M4P6', '/pages/inquiry/ask?code=W8K2M4P6'],
    ['https://daibiao.example.cn/w/W8K2M4P6/ask?s=ZCG', '/pages/inquiry/ask?code=W8K2M4P6&station=ZCG'],
  ])('a plain-link QR %s (options.q, encoded) opens %s', (link, url) => {
    expect(parseEntry({ q: encodeURIComponent(link), scancode_time: '1700000000' }).url).toBe(url);
  });

  test.each([
    ['d=DB0001', 'deputy', 'DB0001'], ['p%3DXM002', 'project', 'XM002'], ['s=ZCG', 'station', 'ZCG'],
    ['d:DB0003', 'deputy', 'DB0003'],
  ])('a mini-program code scene %s opens the %s page', (scene, kind, code) => {
    expect(parseEntry({ scene })).toMatchObject({ kind, code });
  });

  test('anything else is no scan at all', () => {
    expect(parseEntry({})).toBeNull();
    expect(parseEntry({ q: encodeURIComponent('https://evil.example.com/x/DB0001') })).toBeNull();
    expect(parseEntry({ scene: 'x=1' })).toBeNull();
    expect(parseEntry({ scene: 'd=<script>' })).toBeNull();
    expect(parseEntry({ q: '%E0%A4%A' })).toBeNull();
  });

  test('the camera result of the home page scan button', () => {
    expect(parseScan('https://daibiao.example.cn/p/XM003').url).toBe('/pages/project/detail?code=XM003');
    expect(parseScan('s=ZHX').kind).toBe('station');
    expect(parseScan('hello')).toBeNull();
  });

  test('a page takes its own ?code=, a scan for it, or redirects a scan meant for another page', () => {
    expect(codeFor('deputy', { code: 'db0001' })).toEqual({ code: 'DB0001' });
    expect(codeFor('deputy', { scene: 'd%3DDB0009' })).toEqual({ code: 'DB0009' });
    expect(codeFor('deputy', { scene: 'p=XM001' })).toEqual({ redirect: '/pages/project/detail?code=XM001' });
  });
});
