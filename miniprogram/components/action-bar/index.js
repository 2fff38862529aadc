// Buttons for exactly the actions the server allows now (case.allowed_actions); never derived here.
Component({
  properties: {
    actions: { type: Array, value: [] },
    busy: { type: Boolean, value: false },
  },
  methods: {
    onTap(event) {
      if (this.data.busy) return;
      this.triggerEvent('action', { action: event.currentTarget.dataset.action });
    },
  },
});
