// 问政 collecting questions now (from the home page, or a station's page with ?station=<code>): tap one to ask.
const api = require('../../services/api');
const format = require('../../services/format');
const fontSize = require('../../services/fontsize');

Component({
  behaviors: [fontSize],
  data: { inquiries: [], loaded: false, error: '' },
  methods: {
    onLoad(options) {
      this.station = String(options.station || '').toUpperCase();
      return api.inquiries(this.station).then((body) => this.setData({ loaded: true,
        inquiries: body.inquiries.map((i) => ({ ...i, closes: format.time(i.collect_closes), objects: i.objects.join('、') })) }),
      (err) => this.setData({ loaded: true, error: err.message }));
    },
    openInquiry(event) {
      const { code } = event.currentTarget.dataset;
      const station = this.station ? `&station=${this.station}` : '';
      wx.navigateTo({ url: `/pages/inquiry/ask?code=${code}${station}` });
    },
  },
});
