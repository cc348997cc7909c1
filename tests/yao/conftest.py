"""No fixtures: its presence makes pytest (prepend import mode, no __init__.py) put tests/yao on
sys.path for any test under it, so that packed_security/ can import the sibling helper module
secure_testkit.py the way test_packed_protocol.py does."""
