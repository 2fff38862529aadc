// Ask a question for a 问政 (from the list, a station's page with ?station=, a scanned /w/<code> link or a station's
// printed /w/<code>/ask?s=<station> code): the
// content, photos (uploaded as they are picked) and the place; the server's refusal (window closed, content
// check) is shown. Screened questions appear in the event's public 问题清单. Rules: services/inquiry_questions.py.
const api = require('../../services/api');
const entry = require('../../services/entry');
const { toast } = require('../../services/request');
const fontSize = require('../../services/fontsize');

const MAX_PHOTOS = 3;

Component({
  behaviors: [fontSize],
  data: { inquiry: null, error: '', title: '', content: '', photos: [], location: '', latitude: null,
    longitude: null, busy: false, asked: null },
  methods: {
    onLoad(options) {
      const { code, station, redirect } = entry.codeFor('inquiry', options);
      if (redirect) { wx.redirectTo({ url: redirect }); return Promise.resolve(); }
      this.code = code;
      this.station = String(station || options.station || '').toUpperCase();
      return api.inquiry(code).then((body) => this.setData({ inquiry: { ...body.inquiry, objects: body.inquiry.objects.join('、') } }),
        (err) => this.setData({ error: err.message }));
    },
    onTitle(event) { this.setData({ title: event.detail.value }); },
    onContent(event) { this.setData({ content: event.detail.value }); },
    onPickPhotos() {
      const room = MAX_PHOTOS - this.data.photos.length;
      if (room <= 0) { toast(`最多上传${MAX_PHOTOS}张照片`); return Promise.resolve(); }
      return new Promise((resolve) => wx.chooseMedia({
        count: room, mediaType: ['image'], sizeType: ['compressed'],
        success: (res) => res.tempFiles.reduce((chain, file) => chain.then(() => api.uploadPhoto(file.tempFilePath)
          .then((body) => this.setData({ photos: this.data.photos.concat([{ id: body.id, path: file.tempFilePath }]) }))),
        Promise.resolve()).catch(() => {}).then(resolve),
        fail: resolve,
      }));
    },
    onRemovePhoto(event) {
      const { id } = event.currentTarget.dataset;
      this.setData({ photos: this.data.photos.filter((p) => p.id !== id) });
    },
    onLocate() {
      wx.chooseLocation({
        success: (res) => this.setData({ location: res.name || res.address || '', latitude: res.latitude,
          longitude: res.longitude }),
      });
    },
    onSubmit() {
      const d = this.data;
      if (d.busy) return Promise.resolve();
      if (d.content.trim().length < 5) { toast('请把问题写清楚（至少5个字）'); return Promise.resolve(); }
      this.setData({ busy: true });
      const data = { title: d.title.trim(), content: d.content.trim(), photos: d.photos.map((p) => p.id),
        location: d.location, latitude: d.latitude, longitude: d.longitude, station: this.station || undefined };
      return api.askInquiry(this.code, data).then((body) => {
        wx.showToast({ title: '已提交', icon: 'success' });
        this.setData({ asked: body.question, title: '', content: '', photos: [], location: '' });
      }, () => {}).then(() => this.setData({ busy: false }));
    },
  },
});
