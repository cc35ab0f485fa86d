"""Paging (README, "Paging"): a page runs an escalation policy until someone acknowledges.

``service.PagingService`` starts and acknowledges pages; ``engine`` runs a step and falls back
between channels; ``scheduler`` is the one loop per process that claims due steps; ``slack``
keeps the root message and the thread; ``links`` signs the acknowledge link and ``web`` serves it.
"""
