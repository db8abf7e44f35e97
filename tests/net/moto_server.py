# Runs moto (the AWS mock library for Python) as a local Kinesis on
# 127.0.0.1: prints its port, then serves until standard input closes.
#   python3 tests/net/moto_server.py
import sys
from moto.server import ThreadedMotoServer

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
