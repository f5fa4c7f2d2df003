"""The SMS texts, per language, and how a promised time is said in each. Pure: no I/O.

The texts are data: one `Language` per code, each with the same four messages. `{shop}` is
the widget's name and `{when}` the promised local time, said as "today at 09:30", "tomorrow
at 09:30" or "on Thursday 26/11 at 09:30" in that language's own words and word order. A
language we have no texts for falls back to the widget's language, then to English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

FALLBACK = "en"


class Text(StrEnum):
    CONFIRMATION = "confirmation"  # a callback was scheduled for {when}
    REMINDER = "reminder"  # the scheduled call comes soon, at {when}
    APOLOGY_NO_ANSWER = "apology_no_answer"  # we called and nobody answered
    APOLOGY_NO_AGENT = "apology_no_agent"  # nobody of the team could take it


@dataclass(frozen=True)
class Language:
    texts: dict[Text, str]
    today: str  # "{time}"
    tomorrow: str  # "{time}"
    other_day: str  # "{weekday}", "{day}", "{month}" (two digits each), "{time}"
    weekdays: tuple[
        str, str, str, str, str, str, str
    ]  # Monday first, in the form `other_day` needs
    time_separator: str = ":"


LANGUAGES: dict[str, Language] = {
    "en": Language(
        texts={
            Text.CONFIRMATION: "{shop}: thank you! We will call you back {when}.",
            Text.REMINDER: "{shop}: a reminder that we will call you {when}.",
            Text.APOLOGY_NO_ANSWER: "{shop}: we tried to call you back but could not reach "
            "you. Sorry! You can ask for a new callback on our website.",
            Text.APOLOGY_NO_AGENT: "{shop}: sorry, nobody in our team could take your "
            "callback this time. Please ask for a new one on our website.",
        },
        today="today at {time}",
        tomorrow="tomorrow at {time}",
        other_day="on {weekday} {day}/{month} at {time}",
        weekdays=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    ),
    "et": Language(
        texts={
            Text.CONFIRMATION: "{shop}: aitäh! Helistame teile tagasi {when}.",
            Text.REMINDER: "{shop}: meeldetuletus: helistame teile {when}.",
            Text.APOLOGY_NO_ANSWER: "{shop}: proovisime teile tagasi helistada, kuid ei "
            "saanud teid kätte. Vabandame! Uue tagasihelistamise saate tellida meie veebilehelt.",
            Text.APOLOGY_NO_AGENT: "{shop}: vabandame, seekord ei saanud keegi meie "
            "meeskonnast teile helistada. Palun tellige uus tagasihelistamine meie veebilehelt.",
        },
        today="täna kell {time}",
        tomorrow="homme kell {time}",
        other_day="{weekday} {day}.{month} kell {time}",
        weekdays=(
            "esmaspäeval",
            "teisipäeval",
            "kolmapäeval",
            "neljapäeval",
            "reedel",
            "laupäeval",
            "pühapäeval",
        ),
    ),
    "fi": Language(
        texts={
            Text.CONFIRMATION: "{shop}: kiitos! Soitamme sinulle {when}.",
            Text.REMINDER: "{shop}: muistutus: soitamme sinulle {when}.",
            Text.APOLOGY_NO_ANSWER: "{shop}: yritimme soittaa sinulle, mutta emme "
            "tavoittaneet sinua. Pahoittelemme! Voit pyytää uuden soiton verkkosivuiltamme.",
            Text.APOLOGY_NO_AGENT: "{shop}: pahoittelemme, kukaan tiimistämme ei päässyt "
            "soittamaan sinulle tällä kertaa. Pyydä uusi soitto verkkosivuiltamme.",
        },
        today="tänään klo {time}",
        tomorrow="huomenna klo {time}",
        other_day="{weekday} {day}.{month}. klo {time}",
        weekdays=(
            "maanantaina",
            "tiistaina",
            "keskiviikkona",
            "torstaina",
            "perjantaina",
            "lauantaina",
            "sunnuntaina",
        ),
        time_separator=".",
    ),
    "pl": Language(
        texts={
            Text.CONFIRMATION: "{shop}: dziękujemy! Oddzwonimy {when}.",
            Text.REMINDER: "{shop}: przypominamy, że zadzwonimy {when}.",
            Text.APOLOGY_NO_ANSWER: "{shop}: próbowaliśmy oddzwonić, ale nie udało się "
            "z Tobą połączyć. Przepraszamy! Nowy telefon możesz zamówić na naszej stronie.",
            Text.APOLOGY_NO_AGENT: "{shop}: przepraszamy, tym razem nikt z naszego zespołu "
            "nie mógł oddzwonić. Zamów nowy telefon na naszej stronie.",
        },
        today="dziś o {time}",
        tomorrow="jutro o {time}",
        other_day="{weekday} {day}.{month} o {time}",
        weekdays=(
            "w poniedziałek",
            "we wtorek",
            "w środę",
            "w czwartek",
            "w piątek",
            "w sobotę",
            "w niedzielę",
        ),
    ),
    "ru": Language(
        texts={
            Text.CONFIRMATION: "{shop}: спасибо! Мы перезвоним вам {when}.",
            Text.REMINDER: "{shop}: напоминаем, что мы позвоним вам {when}.",
            Text.APOLOGY_NO_ANSWER: "{shop}: мы пытались вам перезвонить, но не дозвонились. "
            "Извините! Новый звонок можно заказать на нашем сайте.",
            Text.APOLOGY_NO_AGENT: "{shop}: извините, в этот раз никто из нашей команды не "
            "смог вам перезвонить. Закажите новый звонок на нашем сайте.",
        },
        today="сегодня в {time}",
        tomorrow="завтра в {time}",
        other_day="{weekday} {day}.{month} в {time}",
        weekdays=(
            "в понедельник",
            "во вторник",
            "в среду",
            "в четверг",
            "в пятницу",
            "в субботу",
            "в воскресенье",
        ),
    ),
    "de": Language(
        texts={
            Text.CONFIRMATION: "{shop}: Danke! Wir rufen Sie {when} zurück.",
            Text.REMINDER: "{shop}: Zur Erinnerung: Wir rufen Sie {when} an.",
            Text.APOLOGY_NO_ANSWER: "{shop}: Wir haben versucht, Sie zurückzurufen, Sie aber "
            "nicht erreicht. Entschuldigung! Einen neuen Rückruf können Sie auf unserer "
            "Website anfordern.",
            Text.APOLOGY_NO_AGENT: "{shop}: Leider konnte diesmal niemand aus unserem Team "
            "Sie zurückrufen. Bitte fordern Sie auf unserer Website einen neuen Rückruf an.",
        },
        today="heute um {time} Uhr",
        tomorrow="morgen um {time} Uhr",
        other_day="am {weekday}, {day}.{month}., um {time} Uhr",
        weekdays=(
            "Montag",
            "Dienstag",
            "Mittwoch",
            "Donnerstag",
            "Freitag",
            "Samstag",
            "Sonntag",
        ),
    ),
    "lv": Language(
        texts={
            Text.CONFIRMATION: "{shop}: paldies! Mēs jums atzvanīsim {when}.",
            Text.REMINDER: "{shop}: atgādinām, ka mēs jums piezvanīsim {when}.",
            Text.APOLOGY_NO_ANSWER: "{shop}: mēs mēģinājām jums atzvanīt, bet nesazvanījām. "
            "Atvainojiet! Jaunu atzvanīšanu varat pieteikt mūsu vietnē.",
            Text.APOLOGY_NO_AGENT: "{shop}: atvainojiet, šoreiz neviens no mūsu komandas "
            "nevarēja jums atzvanīt. Lūdzu, piesakiet jaunu atzvanīšanu mūsu vietnē.",
        },
        today="šodien plkst. {time}",
        tomorrow="rīt plkst. {time}",
        other_day="{weekday}, {day}.{month}., plkst. {time}",
        weekdays=(
            "pirmdien",
            "otrdien",
            "trešdien",
            "ceturtdien",
            "piektdien",
            "sestdien",
            "svētdien",
        ),
    ),
    "lt": Language(
        texts={
            Text.CONFIRMATION: "{shop}: ačiū! Perskambinsime jums {when}.",
            Text.REMINDER: "{shop}: primename, kad paskambinsime jums {when}.",
            Text.APOLOGY_NO_ANSWER: "{shop}: bandėme jums perskambinti, bet nepavyko "
            "susisiekti. Atsiprašome! Naują skambutį galite užsisakyti mūsų svetainėje.",
            Text.APOLOGY_NO_AGENT: "{shop}: atsiprašome, šį kartą niekas iš mūsų komandos "
            "negalėjo jums perskambinti. Užsisakykite naują skambutį mūsų svetainėje.",
        },
        today="šiandien {time}",
        tomorrow="rytoj {time}",
        other_day="{weekday} {month}-{day} {time}",
        weekdays=(
            "pirmadienį",
            "antradienį",
            "trečiadienį",
            "ketvirtadienį",
            "penktadienį",
            "šeštadienį",
            "sekmadienį",
        ),
    ),
}


def pick_language(*preferred: str | None) -> str:
    """The first of `preferred` (language tags such as "et-EE") we have texts for, else en."""
    for tag in preferred:
        if tag:
            primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
            if primary in LANGUAGES:
                return primary
    return FALLBACK


def say_when(language: str, moment: datetime, now: datetime) -> str:
    """`moment` as the visitor should read it; both times already in the widget's zone."""
    words = LANGUAGES[pick_language(language)]
    clock = f"{moment.hour:02d}{words.time_separator}{moment.minute:02d}"
    days_ahead = (moment.date() - now.date()).days
    if days_ahead == 0:
        return words.today.format(time=clock)
    if days_ahead == 1:
        return words.tomorrow.format(time=clock)
    return words.other_day.format(
        weekday=words.weekdays[moment.weekday()],
        day=f"{moment.day:02d}",
        month=f"{moment.month:02d}",
        time=clock,
    )


def render(text: Text, language: str, shop: str, when: str = "") -> str:
    template = LANGUAGES[pick_language(language)].texts[text]
    return template.format(shop=shop.strip() or "Callback", when=when)
