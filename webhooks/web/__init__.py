"""The web channel of `bmabot demo`: the simulator page, its chats (hub), panes, static files."""
