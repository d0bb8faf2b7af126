"""The application ring: settings, wiring, the `tianfu` CLI and the transports."""
