"""Routers by area, built fresh for every dispatcher, in the order they must be tried."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    admin,
    announcements,
    approval,
    bases,
    common,
    completion,
    consent,
    coordinator,
    departments,
    digest,
    errors,
    fallback,
    matching,
    matching_hand,
    meeting_admin,
    meeting_log,
    my_pairs,
    mydata,
    next_year,
    observer_notes,
    observers,
    parent,
    preferences,
    questionnaire,
    readiness,
    scheduling,
    start,
    survey_results,
    survey_settings,
    surveys,
)


def get_routers() -> list[Router]:
    """Every router; the fallback last. The questionnaire comes early: its updates are the most frequent
    (every answer), and no other router's filters overlap its own (its callback prefixes, /questionnaire,
    typed text only in its own state), so trying it first changes no outcome."""
    return [
        errors.router(),
        questionnaire.router(),
        start.router(),
        common.router(),
        admin.router(),
        departments.router(),
        coordinator.router(),
        bases.router(),
        readiness.router(),
        preferences.router(),
        matching.router(),
        matching_hand.router(),
        approval.router(),
        my_pairs.router(),
        scheduling.router(),
        surveys.router(),
        survey_results.router(),
        survey_settings.router(),
        meeting_log.router(),
        meeting_admin.router(),
        announcements.router(),
        next_year.router(),
        observers.router(),
        observer_notes.router(),
        consent.router(),
        parent.router(),
        mydata.router(),
        digest.router(),
        completion.router(),
        fallback.router(),
    ]
