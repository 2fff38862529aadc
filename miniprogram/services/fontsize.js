// 长辈版 in the mini-program: every page follows WeChat's own font size (我 → 设置 → 通用 → 字体大小).
// wx.getSystemInfoSync().fontSizeSetting is the size WeChat's body text uses (17px as standard); it becomes
// the page's root font size (<page-meta root-font-size>), and the styles size text in rem, so all text grows
// with it. Never smaller than the standard size, never past 30px.
const STANDARD = 17;

function rootFontSize() {
  let size = STANDARD;
  try {
    size = Number(wx.getSystemInfoSync().fontSizeSetting) || STANDARD;
  } catch (err) {
    size = STANDARD;
  }
  return `${Math.min(Math.max(size, STANDARD), 30)}px`;
}

module.exports = Behavior({
  data: { rootFontSize: `${STANDARD}px` },
  lifetimes: {
    attached() { this.setData({ rootFontSize: rootFontSize() }); },
  },
});
module.exports.rootFontSize = rootFontSize;
module.exports.STANDARD = STANDARD;
