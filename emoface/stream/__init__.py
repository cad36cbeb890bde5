"""Live: the WebSocket server (``emoface serve``), the browser viewer it serves, and the live
outputs to Unreal Live Link and VMC apps (``emoface live``).

Light on import: the server (:mod:`.server`, which needs websockets) and the engines are
loaded by the commands that use them.
"""
