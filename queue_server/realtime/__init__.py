"""Live updates over Socket.IO."""
