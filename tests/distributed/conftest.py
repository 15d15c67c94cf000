"""The scripts are Theano programs run by ``thx run`` in a subprocess, not modules to import."""

collect_ignore_glob = ["scripts/*"]
