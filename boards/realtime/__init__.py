"""The realtime delivery side: sockets, streams, rooms, presence (see README "Layout")."""
