"""Reference code systems: ICD-10-CM and CMS place-of-service releases, their index, look-ups and
the checks of the codes a graph uses."""
