// The case's timeline as the server words it for this person (citizens get citizen wording).
const format = require('../../services/format');

Component({
  properties: {
    items: { type: Array, value: [], observer: '_shape' },
  },
  data: { rows: [] },
  methods: {
    _shape(items) {
      this.setData({
        rows: (items || []).map((item, index) => ({
          key: index, label: item.label, note: item.note || '', at: format.time(item.at),
        })).reverse(),
      });
    },
  },
});
