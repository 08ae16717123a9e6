"""SHACL validation: the report model (:mod:`~cptkg.shacl.report`), the pySHACL runner
(:mod:`~cptkg.shacl.pyshacl_runner`), the SHACL-to-SPARQL compiler as a registry of constraint
components (:mod:`~cptkg.shacl.compiler`) and the runner of the compiled checks on an engine
(:mod:`~cptkg.shacl.sparql_runner`). Nothing is imported here, to keep start-up fast."""
