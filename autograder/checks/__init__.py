"""The checks, one module per exercise module. Import `autograder.catalogue.all_checks` to get them."""
