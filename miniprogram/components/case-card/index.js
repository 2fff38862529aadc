// One case in a list; tapping it asks the page to open it.

Component({
  properties: {
    item: { type: Object, value: {} },
  },
  methods: {
    onTap() {
      this.triggerEvent('open', { number: this.data.item.number });
    },
  },
});
