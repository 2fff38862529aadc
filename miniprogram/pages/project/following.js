// The projects I follow.
const api = require('../../services/api');
const fontSize = require('../../services/fontsize');

Component({
  behaviors: [fontSize],
  data: { projects: [], loaded: false },
  methods: {
    onShow() {
      return api.followed().then((body) => this.setData({ projects: body.projects, loaded: true }),
        () => this.setData({ loaded: true }));
    },
    onOpen(event) {
      wx.navigateTo({ url: `/pages/project/detail?code=${event.currentTarget.dataset.code}` });
    },
  },
});
