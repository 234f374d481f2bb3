"""Manual timing by judges' phones: judges, competitions, teams, their time records, the
judges' socket and REST (the mobile app's contract), the organizers' API and the /judge page."""
