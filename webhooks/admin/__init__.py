"""The administration command line: applications, export, stats, org import, jobs, audit."""
